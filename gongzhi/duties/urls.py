"""duties pages: a place's overview, power list and decisions, responsibility list, goals and tasks,
scorecards and evaluation, and the matching board. Pages take the place as ?region=ID."""

from django.urls import path

from . import views

app_name = "duties"
urlpatterns = [
    path("", views.index, name="index"),
    path("powers/", views.powers, name="powers"),
    path("powers/adopt", views.adopt_power_list, name="adopt_power_list"),
    path("powers/items/<int:item_id>/decisions", views.record_decision, name="record_decision"),
    path("powers/items/<int:item_id>/edit", views.edit_power_item, name="edit_power_item"),
    path("decisions/<int:decision_id>/project", views.start_project, name="start_project"),
    path("responsibilities/", views.responsibilities, name="responsibilities"),
    path("responsibilities/add", views.add_responsibility, name="add_responsibility"),
    path("responsibilities/<int:entry_id>/edit", views.edit_responsibility, name="edit_responsibility"),
    path("responsibilities/<int:entry_id>/retire", views.retire_responsibility, name="retire_responsibility"),
    path("goals/", views.goals, name="goals"),
    path("goals/add", views.create_goal, name="create_goal"),
    path("goals/reviews", views.hold_review, name="hold_review"),
    path("goals/<int:goal_id>/", views.goal, name="goal"),
    path("goals/<int:goal_id>/progress", views.report_progress, name="report_progress"),
    path("goals/<int:goal_id>/tasks", views.add_task, name="add_task"),
    path("tasks/<int:task_id>/complete", views.complete_task, name="complete_task"),
    path("scorecards/", views.scorecards, name="scorecards"),
    path("scorecards/add", views.define_scorecard, name="define_scorecard"),
    path("scorecards/compute", views.compute_scores, name="compute_scores"),
    path("scorecards/evaluate", views.evaluate_unit, name="evaluate_unit"),
    path("matching/", views.matching, name="matching"),
    path("matching/needs", views.publish_need, name="publish_need"),
    path("matching/resources", views.publish_resource, name="publish_resource"),
    path("matching/propose", views.propose_matches, name="propose_matches"),
    path("matching/grid-workers", views.propose_grid_allocation, name="propose_grid_allocation"),
    path("matches/<int:match_id>/accept", views.accept_match, name="accept_match"),
    path("projects/<int:project_id>/outcome", views.record_outcome, name="record_outcome"),
]
