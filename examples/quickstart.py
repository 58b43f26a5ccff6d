"""The README's example: plain boto3 calls on the local backend."""
from aws_ml import Session

session = Session(backend="local")          # or "moto", "localstack", "aws"; or AWS_ML_BACKEND
s3 = session.client("s3")                   # a botocore.client.BaseClient
s3.create_bucket(Bucket="my-data")
s3.put_object(Bucket="my-data", Key="raw/hello.txt", Body=b"hello")
print(s3.get_object(Bucket="my-data", Key="raw/hello.txt")["Body"].read())

try:
    s3.get_object(Bucket="my-data", Key="missing")
except s3.exceptions.NoSuchKey:
    print("NoSuchKey, as on AWS")

pages = s3.get_paginator("list_objects_v2").paginate(Bucket="my-data", Prefix="raw/")
print([o["Key"] for page in pages for o in page.get("Contents", [])])

cw = session.client("cloudwatch")
cw.put_metric_data(Namespace="Demo", MetricData=[{"MetricName": "Latency", "Value": 12.5}])
print(cw.list_metrics(Namespace="Demo")["Metrics"][0]["MetricName"])
session.close()
