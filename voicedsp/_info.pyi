from typing import Dict

def build_info() -> Dict[str, str]:
    """Describe this build: ``version``, ``compiler`` and the linked system libraries."""
