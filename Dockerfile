# The engine's image: the `petition` console script and its dependencies.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY workflows ./workflows
COPY projections ./projections
COPY adapters ./adapters
RUN pip install --no-cache-dir '.[s3]'
ENTRYPOINT ["petition"]
