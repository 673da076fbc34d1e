"""Celery tasks of the region switch (autodiscovered here); each lives beside its concern."""
