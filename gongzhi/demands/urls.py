"""demands pages: filing, my demands, the work queue, the dispatch desk, a demand's page and its actions,
the rates dashboard and its CSV."""

from django.urls import path

from . import guest_views, public_map, supervision_views, views

app_name = "demands"
urlpatterns = [
    path("new/", views.new, name="new"),
    path("report/", guest_views.report, name="report"),
    path("report/done/", guest_views.done, name="guest_done"),
    path("track/", guest_views.track, name="track"),
    path("public/", guest_views.public_list, name="public"),
    path("nearby/", guest_views.nearby, name="nearby"),
    path("nearby/<str:number>/me-too/", guest_views.me_too, name="me_too"),
    path("public/map.json", public_map.public_map, name="public_map"),
    path("track/<str:number>/", guest_views.tracked, name="tracked"),
    path("track/<str:number>/rate/", guest_views.rate, name="guest_rate"),
    path("track/<str:number>/verdict/", guest_views.answer_case, name="guest_verdict"),
    path("track/<str:number>/photos/", guest_views.add_photos, name="guest_photos"),
    path("mine/", views.mine, name="mine"),
    path("messages/", views.messages_centre, name="messages"),
    path("queue/", views.queue, name="queue"),
    path("triage/", views.triage, name="triage"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/rates.csv", views.rates_csv, name="rates_csv"),
    path("placement/", views.placement, name="placement"),
    path("placement/<str:key>/place/", views.place, name="place"),
    path("placement/<str:key>/refuse/", views.refuse, name="refuse"),
    path("supervision/", supervision_views.board, name="supervision"),
    path("supervision/inbox/", supervision_views.inbox, name="supervision_inbox"),
    path("supervision/orders/<int:order_id>/answer/", supervision_views.answer, name="supervision_answer"),
    path("supervision/orders/<int:order_id>/close/", supervision_views.close, name="supervision_close"),
    path("<str:number>/supervise/", supervision_views.issue, name="supervise"),
    path("<str:number>/list-publicly/", supervision_views.list_publicly, name="list_publicly"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/actions/<str:action>/", views.act, name="act"),
    path("<str:number>/reply-check/", views.reply_check, name="reply_check"),
    path("<str:number>/photos/", views.add_photos, name="add_photos"),
    path("<str:number>/photos/<int:photo_id>.jpg", views.photo, name="photo"),
    path("<str:number>/photos/<int:photo_id>-thumb.jpg", views.photo, {"size": "thumb"}, name="photo_thumb"),
    path("<str:number>/photos/<int:photo_id>/publish/", views.publish_photo, name="publish_photo"),
    path("<str:number>/receipts/<int:event_id>.json", views.receipt, name="receipt"),
]
