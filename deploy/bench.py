"""The benchmark behind `make bench` (contract §1): load on the donation and read paths
beside a bare Nameko HTTP->RPC floor, in one run. Placeholder until it is written."""
import sys


def main():
    print("bench: not implemented yet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
