"""The web layer: every page, URL and request helper, by journey (docs/product.md).

install (Get App Now, Launch, Intuit's callback), constantcontact (its consent), settings
(the list, Connect, sales data), status (the status page, its JSON and buttons), customers
(the customers not in the list, the CSV, the sales data figures), disconnect, session
(company switch, sign-out), webhooks (QuickBooks' deliveries, on their own), probes (health
and metrics), admin (the operator's). Thin: read the request or load by id, call one function
of the layers below, render. access.py says which company a request acts on.
"""
