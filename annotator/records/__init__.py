"""Records: build the per-article record (contract v1) and read or write a folder of them."""
