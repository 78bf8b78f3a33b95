from django.conf import settings


def variant(request):
    """Every template knows which variant and theme served it (the body carries both as markers)."""
    return {
        "variant": settings.VARIANT,
        "theme": settings.THEME,
        "app_version": settings.APP_VERSION,
        "shop_time_zone": settings.SHOP_TIME_ZONE,
    }
