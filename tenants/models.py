from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person who signs in with Intuit single sign-on; `intuit_sub` is their OpenID subject."""

    intuit_sub = models.CharField(max_length=255, unique=True, null=True, blank=True)
