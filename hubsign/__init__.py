"""hubsign: an enterprise's SM2 signer for its register (一企一册), kept apart from the hub.

It makes key files the enterprise keeps (PEM, mode 0600), shows the public key to register, fetches
the compiled register over gRPC, signs it with one or both keys and files it, and verifies a register
and its signatures. It needs only gmalglib, grpcio and protobuf, the hub's shared kernel for SM2
(services/kernel: signatures, sm2_der, canonical) and the generated stubs of enterprise.proto and
filing.proto: `make signer` bundles all of it as dist/hubsign.pyz. `hubctl sign` is the same command.
The format it follows is contracts/filing-signature.md.
"""
