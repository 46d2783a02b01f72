"""API URLs (filled by the API work)."""
urlpatterns = []
