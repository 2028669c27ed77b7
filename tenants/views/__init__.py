"""The install journey's pages, by what they serve: thin views over tenants.services and
tenants.selectors. Request-level helpers (current tenant, sign-in required) are in
tenants.access; the OAuth flow both providers share is tenants.views.oauth."""
