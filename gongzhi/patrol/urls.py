from django.urls import path

from . import views

app_name = "patrol"
urlpatterns = [
    path("", views.today, name="today"),
    path("tasks/<int:patrol_task_id>/check-in/", views.check_in, name="check_in"),
    path("findings/", views.finding, name="finding"),
    path("verify/", views.verify_list, name="verify_list"),
    path("verify/<str:number>/", views.verify, name="verify"),
    path("plans/", views.plans, name="plans"),
    path("plans/places/", views.add_place, name="add_place"),
    path("plans/add/", views.add_plan, name="add_plan"),
    path("plans/<int:plan_id>/end/", views.end_plan, name="end_plan"),
]
