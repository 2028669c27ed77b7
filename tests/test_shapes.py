"""The shape comparison of tests/samples: it must be able to fail."""

from tests.samples import shape_differences

SAMPLE = {
    "QueryResponse": {"Customer": [{"Id": "1", "Active": True, "BillAddr": {"Id": "2"}}]},
    "time": "2015-07-23T11:02:25.149-07:00",
}


def test_same_keys_and_types_extra_keys_and_other_values_pass():
    answer = {
        "QueryResponse": {
            "Customer": [
                {"Id": "7", "Active": False, "BillAddr": {"Id": "9", "City": "x"}, "New": 1}
            ],
            "startPosition": 1,
        },
        "time": "2026-01-01T00:00:00.000-08:00",
    }
    assert shape_differences(SAMPLE, answer) == []


def test_missing_keys_other_types_and_empty_arrays_are_reported():
    answer = {
        "QueryResponse": {"Customer": [{"Id": 7, "BillAddr": {}}]},
        "time": None,
    }
    assert shape_differences(SAMPLE, answer) == [
        "$.QueryResponse.Customer[0].Id: number where the sample has string",
        "$.QueryResponse.Customer[0].Active: missing",
        "$.QueryResponse.Customer[0].BillAddr.Id: missing",
        "$.time: null where the sample has string",
    ]
    assert shape_differences(SAMPLE, {"QueryResponse": {"Customer": []}, "time": ""}) == [
        "$.QueryResponse.Customer: empty where the sample has elements"
    ]


def test_numbers_are_numbers_but_booleans_are_not():
    assert shape_differences({"Balance": 85.0}, {"Balance": 0}) == []
    assert shape_differences({"Balance": 85.0}, {"Balance": True}) == [
        "$.Balance: boolean where the sample has number"
    ]


def test_each_element_may_take_the_shape_of_any_element_of_the_sample():
    rows = [{"Id": "1", "SyncToken": "0"}, {"Id": "2", "status": "Deleted"}]
    answer = [{"Id": "3", "status": "Deleted"}, {"Id": "4", "SyncToken": "2"}]
    assert shape_differences(rows, answer) == []
    assert shape_differences(rows, [{"Id": "5"}]) == ["$[0].SyncToken: missing"]
