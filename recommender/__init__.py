"""Slipstream's recommendation library: models, synthetic data, and the MLflow registry glue.

Pure Python on plain data; nothing here knows about Django, Celery or Shopify. Submodules are
imported explicitly (``from recommender.popularity import Popularity``) so that importing the
package stays cheap and never pulls in torch or mlflow.
"""
