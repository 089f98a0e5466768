{#-
  Exponential smoothing (EMA, Wilder's RMA) with window functions only: no recursive CTE, so it runs on
  Snowflake (whose recursive CTEs stop at MAX_RECURSIONS = 100) on any length of history.

  For a series with smoothing factor a (w = 1 - a) and terms c_i (c_0 = x_0 and c_i = a * x_i for the
  pandas `ewm(adjust=False)` recursion y_i = a * x_i + w * y_(i-1)):

      y_t = sum_{i <= t} w^(t - i) * c_i

  Raising w to powers of the absolute index would overflow after a few thousand rows, so indexes are
  cut into blocks of `block` rows and every term is scaled relative to the start of its own block:

      y_t = w^(t - B) * ( sum_{i in block, i <= t} w^(B - i) * c_i  +  w^block * sum_{i in previous block} w^(B' - i) * c_i )

  with B and B' the first index of the current and previous block. Blocks before that carry weights
  below w^block (< 1e-30 for every smoothing factor used here with block = 1000): they vanish in double
  precision, so the result equals the recursion to machine precision.

  Arguments: `relation` a CTE with `partition_by`, `index` (0, 1, 2, ... per partition), the columns in
  `keep`; `series` a list of {name, alpha, term}. Emits CTEs named <output>__terms, <output>__blocks and
  <output>, the last one with `keep` and one column per series.
-#}
{% macro exponential_smoothing(relation, output, partition_by, index, keep, series, block=1000) %}
{{ output }}__terms as (
    select
        {% for column in keep %}{{ column }},
        {% endfor -%}
        floor({{ index }} / {{ block }}) as smoothing_block
        {%- for s in series %},
        power(1 - {{ s.alpha }}, {{ block }} * floor({{ index }} / {{ block }}) - {{ index }})
            * coalesce({{ s.term }}, 0) as {{ s.name }}__scaled
        {%- endfor %}
    from {{ relation }}
),

{{ output }}__blocks as (
    select
        {{ partition_by }},
        smoothing_block
        {%- for s in series %},
        sum({{ s.name }}__scaled) as {{ s.name }}__block_total
        {%- endfor %}
    from {{ output }}__terms
    group by {{ partition_by }}, smoothing_block
),

{{ output }} as (
    select
        {% for column in keep %}t.{{ column }},
        {% endfor -%}
        {%- for s in series %}
        power(1 - {{ s.alpha }}, t.{{ index }} - {{ block }} * t.smoothing_block) * (
            sum(t.{{ s.name }}__scaled) over (
                partition by t.{{ partition_by }}, t.smoothing_block
                order by t.{{ index }}
                rows between unbounded preceding and current row
            )
            + power(1 - {{ s.alpha }}, {{ block }}) * coalesce(b.{{ s.name }}__block_total, 0)
        ) as {{ s.name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ output }}__terms as t
    left join {{ output }}__blocks as b
        on t.{{ partition_by }} = b.{{ partition_by }} and t.smoothing_block - 1 = b.smoothing_block
)
{% endmacro %}
