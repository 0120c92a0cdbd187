"""EzXml: one file per order (default XML, CSV or Reflecta XML) uploaded to an FTP(S) folder.

Seed: ``shared/seeds/001_67d211f8e965ec92.txt``. ``OrderFormat`` chooses the format
(``default_xml``, ``csv_format``, ``reflecta_xml``); ``order_number`` keeps the seed's
order-type-plus-sequence numbers unique and stable across retries; ``delivery`` uploads to
``FtpOrderExportFolder``. Each XML format ships its XSD and every file is checked before upload.
"""

from backoffice_export.connectors.ezxml.delivery import EzXmlConnector

connector = EzXmlConnector()
