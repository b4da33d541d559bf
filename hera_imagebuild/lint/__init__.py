"""Offline checks of Argo documents: Argo's JSON schema and a stricter check of our own."""
