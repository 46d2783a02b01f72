"""Browse page URLs."""
app_name = "backups"
urlpatterns = []
