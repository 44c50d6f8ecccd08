"""Reference solutions with fenced solution blocks; the student stubs are generated from them."""
