"""``AWS::Glue::Database``."""
from __future__ import annotations

from botocore.exceptions import ClientError

from .base import Provisioned, ResourceType

INPUT_KEYS = ("Name", "Description", "LocationUri", "Parameters", "CreateTableDefaultPermissions",
              "TargetDatabase", "FederatedDatabase")


class Database(ResourceType):
    """A Data Catalog database; ``Ref`` is its name."""

    type_name = "AWS::Glue::Database"
    replace_on = frozenset({"CatalogId", "DatabaseName"})
    required = ("CatalogId", "DatabaseInput")

    def _input(self, props: dict, name: str) -> dict:
        given = props["DatabaseInput"]
        out = {k: given[k] for k in INPUT_KEYS if k in given and k != "Name"}
        out["Name"] = name
        return out

    def requires_replacement(self, old: dict, new: dict) -> bool:
        return super().requires_replacement(old, new) or \
            old["DatabaseInput"].get("Name") != new["DatabaseInput"].get("Name")

    def create(self, props: dict) -> Provisioned:
        self.check(props)
        name = props["DatabaseInput"].get("Name") or props.get("DatabaseName") or \
            self.ctx.generated_name(255, lower=True, sep="_").replace("-", "_")
        self.ctx.client("glue").create_database(CatalogId=str(props["CatalogId"]),
                                                DatabaseInput=self._input(props, name))
        return Provisioned(name, {})

    def update(self, physical_id: str, old: dict, new: dict) -> Provisioned:
        self.ctx.client("glue").update_database(CatalogId=str(new["CatalogId"]), Name=physical_id,
                                                DatabaseInput=self._input(new, physical_id))
        return Provisioned(physical_id, {})

    def delete(self, physical_id: str, props: dict) -> None:
        try:
            self.ctx.client("glue").delete_database(CatalogId=str(props["CatalogId"]), Name=physical_id)
        except ClientError as err:
            if err.response["Error"]["Code"] != "EntityNotFoundException":
                raise
