"""安全监管工作台: the hub's web console for the town safety office, the departments and the auditors.

It sits at the gateway's layer: it reads the services through their nameko RPC (and the audit
endpoint over gRPC), and answers its lists and dashboards from a read model of its own
(`console.readmodel`), kept from the services' published events by a tracked consumer
(`python -m console.stream`). It imports no service's modules, only `services.backbone` and
`services.kernel`.
"""
