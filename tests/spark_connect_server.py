"""A real Spark Connect server on loopback for the tests: PySpark's own server class run by its
``spark-submit`` (the jars ship with the pyspark package), on a free port, in a temporary
folder; stopped (and its folder removed) when the session ends."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import pyspark

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class SparkConnectServer:
    """``with SparkConnectServer() as server: connect(server.url)``."""

    def __init__(self, startup_timeout: float = 240.0, python: str | None = None) -> None:
        self.python = python or sys.executable
        self.port = _free_port()
        self.url = f"sc://127.0.0.1:{self.port}"
        self._timeout = startup_timeout
        self._folder = Path(tempfile.mkdtemp(prefix="spark-connect-"))
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SparkConnectServer:
        home = Path(pyspark.__file__).parent
        settings = {
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(self.port),
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.sql.warehouse.dir": str(self._folder / "warehouse"),
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={self._folder}",
        }
        command = [str(home / "bin" / "spark-submit"), "--class", SERVER_CLASS]
        command += ["--master", "local[2]", "--name", "listrak-sync-tests"]
        for key, value in settings.items():
            command += ["--conf", f"{key}={value}"]
        command.append("spark-internal")
        # The server's Python workers (Arrow streams, and the plan's normalize) must import
        # pyarrow and listrak_sync: this interpreter, where both are installed.
        env = {**os.environ, "SPARK_HOME": str(home), "PYSPARK_PYTHON": self.python}
        log = (self._folder / "server.log").open("wb")
        self._process = subprocess.Popen(
            command, cwd=self._folder, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"Spark Connect server exited: {self._log_tail()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.5)
        self.__exit__(None, None, None)
        raise RuntimeError(f"Spark Connect server did not listen in time: {self._log_tail()}")

    def _log_tail(self) -> str:
        text = (self._folder / "server.log").read_text(errors="replace")
        return text[-2000:]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self._folder, ignore_errors=True)
