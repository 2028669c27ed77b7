from django.urls import path

from sandbox.control import views

urlpatterns = [
    path("", views.index, name="index"),
    path("_sandbox/knobs", views.knob_values, name="knobs"),
    path("_sandbox/knobs/reset", views.knob_reset, name="knobs-reset"),
]
