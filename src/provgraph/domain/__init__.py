"""Plain typed values of the provenance domain: ids, entities, time, errors. No I/O here."""
