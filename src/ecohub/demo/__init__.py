"""The demo province (河北省): real published data shipped in ``ecohub.data.demo``, loaded and replayed
time-shifted so that a fresh ``ecohub demo`` looks like a living platform."""
