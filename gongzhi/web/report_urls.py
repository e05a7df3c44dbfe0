"""The monthly report (月报): the page, its PDF, the whole report as XLSX and each table as CSV or XLSX.
Region, month and table come in the query (?region=<id>&month=2026-11&table=units), checked by report.py."""

from django.urls import path

from . import report_views

urlpatterns = [
    path("", report_views.report, name="report"),
    path("report.pdf", report_views.report_pdf, name="report_pdf"),
    path("report.xlsx", report_views.report_xlsx, name="report_xlsx"),
    path("table.csv", report_views.report_table_csv, name="report_table_csv"),
    path("table.xlsx", report_views.report_table_xlsx, name="report_table_xlsx"),
]
