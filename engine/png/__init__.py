"""PNG records: ``a1111`` (the parameters text), ``record`` (our JSON request record),
``chunks`` (the hostile-input chunk reader), ``encode`` (Pillow encoding), ``saving`` (atomic saving)."""
