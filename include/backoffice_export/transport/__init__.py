"""Hand files to an ERP's SFTP or FTP(S) folder through the Airflow provider hooks."""
