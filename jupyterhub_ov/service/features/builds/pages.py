"""The builds feature's own page: one build, followed live (``builds.js``)."""

from __future__ import annotations

from jupyterhub_ov.service.web.pages import PageHandler, static_url


class BuildPage(PageHandler):
    template = "builds/build.html"

    async def get(self, build_id: str) -> None:
        if self.require_page():
            assert self.feature is not None
            script = static_url(self.ctx.prefix, "builds.js", self.feature)
            self.render_page(build_id=build_id, builds_js=script)
