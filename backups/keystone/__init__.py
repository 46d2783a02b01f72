"""Keystone (IAM) tokens accepted beside the local ones, when ``KEYSTONE_AUTH_URL`` is set.

``validation`` asks Keystone v3 about a token (``GET /v3/auth/tokens``) and caches the answer;
``principal`` is what a valid token becomes (``request.user``, ``request.auth``);
``authentication`` is the DRF authentication class that wires them into the API.
"""
