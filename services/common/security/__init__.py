"""Who may call Chorus: TLS material, caller credentials and the role each RPC needs.

- :mod:`.roles`: the one table of every RPC and the roles allowed to call it.
- :mod:`.tokens`: signed bearer tokens (JWT, EdDSA) naming a subject and its role.
- :mod:`.callers`: the caller of an RPC, from its client certificate or its bearer token.
- :mod:`.local_ca`: the credentials ``chorus up`` creates in its data dir (a local CA, a certificate per
  service, an admin certificate, the token signing key).
"""
