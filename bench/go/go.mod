module goalloc/bench/go

go 1.19
