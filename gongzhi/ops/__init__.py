"""Operations: health and readiness (/health/live/, /health/ready/) and Prometheus metrics (/metrics) of a
running gongzhi. Above every other app: it reads their queues and counts, and no app imports it."""
