"""Setting up a district: the staff roster, the school calendar and the demo organisation.

Each importer reads a file into plain values, checks all of it, plans the changes against what is stored,
and only then writes, in one transaction, so a file with one bad line changes nothing and a dry run is
the same plan without the write.
"""
