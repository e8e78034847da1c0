"""The AsyncAPI generator behind scripts/gen_asyncapi.py, one step a module:

contracts    the inputs (event contracts, topology) and the names built from them
messages     payload schemas, envelopes, messages and batch messages
departments  the departments' own queues (filings, tree heads)
document     the whole document, rendered as YAML
"""
