"""The twistd plugin of wamp-sansio: ``twistd -n wamp-sansio [serve flags]`` runs the
router (wamp_twisted.cli's Options and makeService). Twisted finds this file in any
``twisted/plugins`` folder on sys.path; it imports nothing of ours until used."""

from twisted.application.service import ServiceMaker

wamp_sansio = ServiceMaker(
    "wamp-sansio router",
    "wamp_twisted.cli",
    "the WAMP router of wamp-sansio (the flags of python -m wamp_twisted serve)",
    "wamp-sansio",
)
