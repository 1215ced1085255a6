"""PyIceberg, the reference reader, driven by K2's tests: one JSON request on stdin, one JSON answer on stdout.

Commands (request field "command"):
  write-files  write Parquet files with Iceberg field ids via PyArrow, return their DataFile stats as PyIceberg computes them
  scan         read a table (optionally filtered / at a snapshot): rows, planned files, snapshot summaries
  append       append rows through PyIceberg's own writer (a foreign commit on a K2 table)
  snapshots    the snapshot log with summaries
Values cross as JSON: decimals as strings, timestamps as integer microseconds (UTC), maps as objects.
"""

import datetime
import decimal
import json
import os
import sys

os.environ.setdefault("AWS_REQUEST_CHECKSUM_CALCULATION", "WHEN_REQUIRED")
os.environ.setdefault("AWS_RESPONSE_CHECKSUM_VALIDATION", "WHEN_REQUIRED")

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from pyiceberg.catalog.sql import SqlCatalog  # noqa: E402
from pyiceberg.expressions import (  # noqa: E402
    AlwaysTrue,
    And,
    EqualTo,
    GreaterThanOrEqual,
    In,
    LessThan,
)
from pyiceberg.io.pyarrow import parquet_file_to_data_file, schema_to_pyarrow  # noqa: E402
from pyiceberg.types import DecimalType, ListType, MapType, TimestamptzType, TimestampType  # noqa: E402

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def catalog(req):
    c = req["catalog"]
    s3 = req["s3"]
    return SqlCatalog(
        c["name"],
        uri=f"postgresql+psycopg2://{c['user']}:{c['password']}@{c['host']}:{c['port']}/{c['database']}",
        warehouse=req.get("warehouse", f"s3://{s3['bucket']}/pyiceberg"),
        **{
            "s3.endpoint": s3["endpoint"],
            "s3.access-key-id": s3["accessKeyId"],
            "s3.secret-access-key": s3["secretAccessKey"],
            "s3.region": s3["region"],
            "s3.path-style-access": "true",
        },
    )


def to_arrow_value(field_type, value):
    if value is None:
        return None
    if isinstance(field_type, DecimalType):
        return decimal.Decimal(value)
    if isinstance(field_type, (TimestamptzType, TimestampType)):
        return EPOCH + datetime.timedelta(microseconds=int(value))
    if isinstance(field_type, MapType):
        return list(value.items())
    return value


def arrow_table(schema, rows):
    arrow_schema = schema_to_pyarrow(schema)
    columns = {}
    for field in schema.fields:
        columns[field.name] = [to_arrow_value(field.field_type, row.get(field.name)) for row in rows]
    return pa.Table.from_pydict(columns, schema=arrow_schema)


def json_value(value):
    if value is None:
        return None
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        delta = value - EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if isinstance(value, datetime.date):
        return (value - EPOCH.date()).days
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        if value and isinstance(value[0], tuple):
            return {k: json_value(v) for k, v in value}
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    return value


def bounds(mapping):
    return {str(k): v.hex() for k, v in (mapping or {}).items()}


def counts(mapping):
    return {str(k): int(v) for k, v in (mapping or {}).items()}


def write_files(req):
    cat = catalog(req)
    table = cat.load_table(req["table"])
    schema = table.schema()
    out = []
    for spec in req["files"]:
        data = arrow_table(schema, spec["rows"])
        with table.io.new_output(spec["path"]).create(overwrite=True) as stream:
            pq.write_table(data, stream, row_group_size=spec.get("rowGroupSize", 1_000_000))
        df = parquet_file_to_data_file(table.io, table.metadata, spec["path"])
        partition = {}
        for i, field in enumerate(table.spec().fields):
            partition[str(field.field_id)] = json_value(df.partition[i])
        out.append(
            {
                "filePath": df.file_path,
                "fileSizeInBytes": df.file_size_in_bytes,
                "recordCount": df.record_count,
                "partition": partition,
                "specId": table.spec().spec_id,
                "columnSizes": counts(df.column_sizes),
                "valueCounts": counts(df.value_counts),
                "nullValueCounts": counts(df.null_value_counts),
                "nanValueCounts": counts(df.nan_value_counts),
                "lowerBounds": bounds(df.lower_bounds),
                "upperBounds": bounds(df.upper_bounds),
                "splitOffsets": list(df.split_offsets or []),
            }
        )
    return {"files": out}


def summaries(table):
    return [
        {
            "snapshotId": str(s.snapshot_id),
            "parentSnapshotId": None if s.parent_snapshot_id is None else str(s.parent_snapshot_id),
            "sequenceNumber": str(s.sequence_number),
            "operation": s.summary.operation.value if s.summary else None,
            "summary": dict(s.summary.additional_properties) if s.summary else {},
        }
        for s in table.metadata.snapshots
    ]


OPERATORS = {">=": GreaterThanOrEqual, "<": LessThan, "==": EqualTo}


def row_filter(where):
    """[{"column", "op": ">=" | "<" | "==" | "in", "value"}] joined by AND; timestamps as integer micros."""
    expression = AlwaysTrue()
    for term in where:
        if term["op"] == "in":
            predicate = In(term["column"], set(term["value"]))
        else:
            predicate = OPERATORS[term["op"]](term["column"], term["value"])
        expression = And(expression, predicate)
    return expression


def scan(req):
    cat = catalog(req)
    table = cat.load_table(req["table"])
    kwargs = {}
    if req.get("where"):
        kwargs["row_filter"] = row_filter(req["where"])
    if req.get("snapshotId"):
        kwargs["snapshot_id"] = int(req["snapshotId"])
    scan = table.scan(**kwargs)
    files = sorted(task.file.file_path for task in scan.plan_files())
    result = scan.to_arrow()
    rows = [{k: json_value(v) for k, v in row.items()} for row in result.to_pylist()]
    current = table.current_snapshot()
    return {
        "rows": rows,
        "files": files,
        "rowCount": result.num_rows,
        "arrowSchema": [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in result.schema],
        "currentSnapshotId": None if current is None else str(current.snapshot_id),
        "snapshots": summaries(table),
        "properties": dict(table.properties),
        "partitionSpec": [
            {"name": f.name, "transform": str(f.transform), "sourceId": f.source_id, "fieldId": f.field_id}
            for f in table.spec().fields
        ],
        "sortOrder": [str(f) for f in table.sort_order().fields],
    }


def append(req):
    cat = catalog(req)
    table = cat.load_table(req["table"])
    table.append(arrow_table(table.schema(), req["rows"]), snapshot_properties=req.get("properties", {}))
    table = cat.load_table(req["table"])
    return {"snapshotId": str(table.current_snapshot().snapshot_id), "snapshots": summaries(table)}


def snapshots(req):
    table = catalog(req).load_table(req["table"])
    return {"snapshots": summaries(table), "metadataLocation": table.metadata_location}


COMMANDS = {"write-files": write_files, "scan": scan, "append": append, "snapshots": snapshots}

if __name__ == "__main__":
    request = json.load(sys.stdin)
    try:
        answer = COMMANDS[request["command"]](request)
        json.dump({"ok": True, **answer}, sys.stdout)
    except Exception as error:  # the test reports the reader's own error text
        json.dump({"ok": False, "error": f"{type(error).__name__}: {error}"}, sys.stdout)
        sys.exit(1)
