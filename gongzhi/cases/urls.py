from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("<int:case_id>/", views.detail, name="detail"),
    path("<int:case_id>/verify/", views.verify, name="verify"),
    path("<int:case_id>/receipts.json", views.receipts, name="receipts"),
    path("<int:case_id>/receipts/<int:event_id>.json", views.receipt, name="receipt"),
    path("<int:case_id>/verdict", views.answer, name="answer"),
    path("<int:case_id>/milestones/<int:task_id>/progress", views.report_progress, name="report_progress"),
    path("<int:case_id>/milestones/<int:task_id>/check", views.check_milestone, name="check_milestone"),
    path("<int:case_id>/outcome", views.record_outcome, name="record_outcome"),
    path("<int:case_id>/reply", views.reply_to_demands, name="reply_to_demands"),
    path("<int:case_id>/photos/<int:progress_photo_id>.jpg", views.photo, name="photo"),
    path("<int:case_id>/photos/<int:progress_photo_id>-thumb.jpg", views.photo, {"size": "thumb"}, name="photo_thumb"),
    path("<int:case_id>/case-file.pdf", views.pdf, name="pdf"),
]
