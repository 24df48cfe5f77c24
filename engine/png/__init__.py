"""PNG records: the AUTOMATIC1111 parameters text, our JSON record, the chunk reader, atomic saving."""
