"""The issuer pre-flight's I/O: fetching discovery documents and key sets over HTTPS."""
