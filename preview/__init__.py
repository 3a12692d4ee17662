"""Try it without Facebook: the local mode of `python app.py`, its Messenger preview page, and
the terminal `chat`.

Local mode runs the real pipeline in one process: our web app with the Graph API stand-in
(`messenger.standin`) mounted beside it at `/_graph`, throwaway credentials, an in-process
Redis and in-process jobs. The stand-in posts signed webhooks to our own `/webhook`, and the
bot's Send API and handover calls reach it over HTTP. Nothing here is used in production:
`create_app` never mounts the stand-in or the preview, and local mode refuses to start with
real credentials, a REDIS_URL, or beyond loopback.
"""
