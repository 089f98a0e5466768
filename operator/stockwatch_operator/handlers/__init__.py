"""Handler bodies; `stockwatch_operator.main` only wires kopf decorators to these."""
