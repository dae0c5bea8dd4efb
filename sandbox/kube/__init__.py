"""The emulated Kubernetes API: an in-process store and a real HTTP apiserver on top of it.

Store (store.py) is the registry the Flux simulator writes through; KubeApiServer (server.py)
serves it to the real kubernetes client and kubectl. Nothing here runs controllers.
"""
