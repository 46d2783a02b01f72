"""The framework floor's three views and URLs: the floor's query, run on Django's connection."""

from django.db import connection
from django.http import HttpResponse, HttpResponseNotFound
from django.urls import path

from bench import floor


def _answer(sql_and_args):
    sql, args = sql_and_args
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        row = cursor.fetchone()
    if row is None:
        return HttpResponseNotFound(b"not found", content_type="text/plain")
    return HttpResponse(row[0], content_type="application/json")


def items(request, project_id):
    return _answer(floor.list_query(project_id, dict(request.GET.items())))


def count(request, project_id):
    return _answer(floor.count_query(project_id, dict(request.GET.items())))


def item(request, project_id, item_id):
    return _answer(floor.detail_query(project_id, item_id))


urlpatterns = [
    path("v1/<str:project_id>/checkpoint_items", items),
    path("v1/<str:project_id>/checkpoint_items/count", count),
    path("v1/<str:project_id>/checkpoint_items/<str:item_id>", item),
]
