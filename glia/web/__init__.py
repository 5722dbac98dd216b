"""`glia view`: read-only pages over run and comparison folders, served locally (Starlette + uvicorn).

- `app`: the routes and the live fragments (`create_app`);
- `security`: read-only methods, the Content-Security-Policy and other headers, hosts, the token;
- `html`: the one HTML sanitiser (Jinja2 with autoescaping, markupsafe, safe links);
- `catalog`: which folders under the root may be shown (names checked, no path out of the root);
- `pages`, `comparison`: what each page shows, read through `glia.record`;
- `plot`: the Fig. 7 progress plot (and the comparison figures) as SVG drawn on the server.

Needs the `view` extra (`pip install 'glia[view]'`).
"""
