//! The table as a Parquet file (the `parquet` feature): one column per table column, typed
//! (`Int64`, `Float64`, `Boolean`, `Utf8`), every column nullable (a missing value is a null),
//! uncompressed with dictionary encoding (no compression codec is built: it keeps the
//! dependency small, and dictionary pages already shrink the repeated settings of a long table).

use super::{Table, Values};
use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use std::path::Path;
use std::sync::Arc;

impl Table {
    /// The table as the bytes of a Parquet file.
    pub fn to_parquet(&self) -> Result<Vec<u8>, parquet::errors::ParquetError> {
        let mut fields = Vec::with_capacity(self.columns.len());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            let (ty, array): (DataType, ArrayRef) = match &c.values {
                Values::Int(v) => (DataType::Int64, Arc::new(Int64Array::from(v.clone()))),
                Values::Float(v) => (DataType::Float64, Arc::new(Float64Array::from(v.clone()))),
                Values::Bool(v) => (DataType::Boolean, Arc::new(BooleanArray::from(v.clone()))),
                Values::Str(v) => (
                    DataType::Utf8,
                    Arc::new(StringArray::from_iter(v.iter().map(|s| s.as_deref()))),
                ),
            };
            fields.push(Field::new(&c.name, ty, true));
            arrays.push(array);
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = if arrays.is_empty() {
            RecordBatch::new_empty(schema.clone())
        } else {
            RecordBatch::try_new(schema.clone(), arrays)?
        };
        let mut writer = ArrowWriter::try_new(Vec::new(), schema, None)?;
        writer.write(&batch)?;
        writer.into_inner()
    }

    /// Writes the table to `path` as Parquet, atomically.
    pub fn write_parquet(&self, path: &Path) -> Result<(), sgdnoise_core::Error> {
        let bytes = self
            .to_parquet()
            .map_err(|e| sgdnoise_core::Error::io(path, std::io::Error::other(e)))?;
        sgdnoise_core::rundir::write_atomic(path, &bytes)
            .map_err(|e| sgdnoise_core::Error::io(path, e))
    }
}
