# CPU image of videoworld-go.
#   docker build -t videoworld-go .
#   docker run -i videoworld-go                    # GTP on stdin/stdout (default)
#   docker run -p 8000:8000 videoworld-go serve    # REST + web board on http://localhost:8000
# `serve` binds $VIDEOWORLD_HOST (set to 0.0.0.0 below; outside Docker it defaults to
# 127.0.0.1), so the published port reaches it; `serve --host ...` overrides it.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends gnugo && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The CPU wheel of torch (the default PyPI wheel carries CUDA, several GB).
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY engine engine
COPY render render
COPY models models
COPY gtp gtp
COPY server server
COPY weights weights
RUN pip install --no-cache-dir -e .   # editable: the engine finds weights/ beside its packages
ENV VIDEOWORLD_HOST=0.0.0.0
EXPOSE 8000
ENTRYPOINT ["videoworld-go"]
CMD ["gtp"]
