"""deliberation pages: topics with their discussion and opinion map, meetings with the roll, quorum and
ballots, motions' results and published ballot lists, and the disclosure board."""

from django.urls import path

from . import views

app_name = "deliberation"
urlpatterns = [
    path("", views.topics, name="topics"),
    path("topics/propose", views.propose, name="propose"),
    path("topics/<int:topic_id>/", views.topic, name="topic"),
    path("topics/<int:topic_id>/support", views.support, name="support"),
    path("topics/<int:topic_id>/comments", views.add_comment, name="add_comment"),
    path("topics/<int:topic_id>/attachments", views.add_attachment, name="add_attachment"),
    path("topics/<int:topic_id>/procedure", views.start_procedure, name="start_procedure"),
    path("topics/<int:topic_id>/meetings", views.schedule_meeting, name="schedule_meeting"),
    path("topics/<int:topic_id>/draft-resolution", views.draft_resolution, name="draft_resolution"),
    path("topics/<int:topic_id>/statements", views.add_statement, name="add_statement"),
    path("topics/<int:topic_id>/map", views.opinion_map, name="opinion_map"),
    path("comments/<int:comment_id>/report", views.report_comment, name="report_comment"),
    path("comments/<int:comment_id>/hide", views.hide_comment, name="hide_comment"),
    path("attachments/<int:attachment_id>", views.attachment, name="attachment"),
    path("statements/<int:statement_id>/vote", views.vote_statement, name="vote_statement"),
    path("statements/<int:statement_id>/moderate", views.moderate_statement, name="moderate_statement"),
    path("statements/<int:statement_id>/report", views.report_statement, name="report_statement"),
    path("meetings/<int:meeting_id>/", views.meeting, name="meeting"),
    path("meetings/<int:meeting_id>/quorum", views.quorum, name="quorum"),
    path("meetings/<int:meeting_id>/open", views.open_meeting, name="open_meeting"),
    path("meetings/<int:meeting_id>/sign-in", views.sign_in, name="sign_in"),
    path("meetings/<int:meeting_id>/attendance", views.record_attendance, name="record_attendance"),
    path("meetings/<int:meeting_id>/motions", views.open_motion, name="open_motion"),
    path("meetings/<int:meeting_id>/close", views.close_meeting, name="close_meeting"),
    path("attendance/<int:entry_id>/confirm", views.confirm_attendance, name="confirm_attendance"),
    path("motions/<int:motion_id>/", views.motion, name="motion"),
    path("motions/<int:motion_id>/ballot", views.cast_ballot, name="cast_ballot"),
    path("motions/<int:motion_id>/paper-roll", views.paper_roll, name="paper_roll"),
    path("motions/<int:motion_id>/paper-roll/mark", views.mark_paper_ballot, name="mark_paper_ballot"),
    path("motions/<int:motion_id>/ballot-box", views.ballot_box, name="ballot_box"),
    path("motions/<int:motion_id>/paper-ballots", views.enter_paper_ballot, name="enter_paper_ballot"),
    path("motions/<int:motion_id>/close", views.close_motion, name="close_motion"),
    path("ballots/<str:ballot_id>/confirm", views.confirm_paper_ballot, name="confirm_paper_ballot"),
    path("disclosures/", views.disclosures, name="disclosures"),
    path("disclosures/publish", views.publish, name="publish"),
    path("disclosures/<int:disclosure_id>/objections", views.file_objection, name="file_objection"),
    path("objections/<int:objection_id>/answer", views.answer_objection, name="answer_objection"),
]
