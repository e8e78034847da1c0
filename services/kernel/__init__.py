"""The shared kernel: rules that several parts of the hub must agree on, each with one owner here.

Signatures and the canonical bytes of a register, receipts and delivery ids, identities derived from
names, the field lists of profiles and risk points, validators of values with a range. Services, the
gateway and the departments' code import these (and the backbone) instead of each other; nothing here
does I/O or imports a service.
"""
