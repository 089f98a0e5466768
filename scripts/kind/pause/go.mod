module stockwatch.dev/kind/pause

go 1.21
