"""Run every benchmark in turn and print its figures."""

from . import intake, kdf

if __name__ == "__main__":
    kdf.main()
    print()
    intake.main()
