"""The tests' one OpenTelemetry SDK: installed once per process, spans kept in memory and
written by the file exporter, as a service would with ``DUNNING_TRACES_FILE=1``.

An SDK can be installed only once in a process (``trace.set_tracer_provider``), so every
test that looks at spans shares this one, and finds its own spans by trace id.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson
from dunning_core.runtime.settings import CommonSettings
from dunning_core.runtime.telemetry import setup_telemetry, traces_path
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@dataclass(frozen=True)
class Telemetry:
    provider: TracerProvider
    memory: InMemorySpanExporter
    file: Path

    def spans(self, trace_id: str) -> list[ReadableSpan]:
        return [
            s
            for s in self.memory.get_finished_spans()
            if s.context is not None and f"{s.context.trace_id:032x}" == trace_id
        ]

    def file_spans(self, trace_id: str) -> list[dict[str, object]]:
        """The spans of ``trace_id`` the JSON-lines exporter wrote (after a flush)."""
        self.provider.force_flush()
        lines = self.file.read_text().splitlines() if self.file.exists() else []
        spans = [orjson.loads(line) for line in lines if line.strip()]
        return [s for s in spans if s["context"]["trace_id"] == "0x" + trace_id]


_installed: Telemetry | None = None


def telemetry() -> Telemetry:
    """The process's SDK, installed on first use with the file exporter of ``tests``."""
    global _installed
    if _installed is None:
        state = Path(tempfile.mkdtemp(prefix="dunning-traces-"))
        settings = CommonSettings(state_dir=state, traces_file=True)
        provider = setup_telemetry("tests", settings)
        assert provider is not None, "another SDK is installed in this process"
        memory = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(memory))
        _installed = Telemetry(provider, memory, traces_path("tests", settings))
    return _installed
