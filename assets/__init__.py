"""The data products: contract files (``*.odcs.yaml``) under sources/, golden/ and marts/.

Adding a dataset means adding a contract file here; the factories turn each one into an asset
with its checks. Nothing in this package is specific to one dataset.
"""

from dte_platform.orchestration import build_contract_assets
from dte_platform.settings import Settings


def build(settings: Settings) -> list:
    return build_contract_assets(settings)
